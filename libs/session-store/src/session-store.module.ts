import { Global, Module } from '@nestjs/common';
import { ConversationRepository } from './conversation-repository';
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
];

@Global()
@Module({ providers: PROVIDERS, exports: PROVIDERS })
export class SessionStoreModule {}
