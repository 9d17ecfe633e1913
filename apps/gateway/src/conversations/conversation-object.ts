import { StoredConversation } from '@app/session-store';

/** The Conversation object of OpenAI's wire format. */
export function toConversationObject(conversation: StoredConversation) {
  return {
    id: conversation.id,
    object: 'conversation' as const,
    created_at: Math.floor(conversation.createdAt / 1000),
    metadata: conversation.metadata,
  };
}
