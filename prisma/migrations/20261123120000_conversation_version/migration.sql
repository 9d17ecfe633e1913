-- Bumped by every change to a conversation's items: a cached copy of the items is keyed by it, so a copy
-- can never be read as a later version than it is (see ConversationCache).
ALTER TABLE "conversations" ADD COLUMN "version" BIGINT NOT NULL DEFAULT 0;
