import { Global, Module } from '@nestjs/common';
import { ConversationCache } from './conversation-cache';
import { ConversationRepository } from './conversation-repository';
import { ConversationStore } from './conversation-store';
import { GroupCommit } from './group-commit';
import { JournalRecovery } from './journal-recovery';
import { ResponseCache } from './response-cache';
import { ResponseJournal } from './response-journal';
import { ResponseRepository } from './response-repository';
import { SpendLogWriter } from './spend-log.writer';
import { TurnRecorder } from './turn-recorder';

const PROVIDERS = [
  ResponseCache,
  ResponseRepository,
  ResponseJournal,
  SpendLogWriter,
  GroupCommit,
  JournalRecovery,
  TurnRecorder,
  ConversationRepository,
  ConversationCache,
  ConversationStore,
];

@Global()
@Module({ providers: PROVIDERS, exports: PROVIDERS })
export class SessionStoreModule {}
