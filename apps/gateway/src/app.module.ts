import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, ConfigModule } from '@app/config';
import { DatabaseModule } from '@app/database';
import { RedisModule } from '@app/redis';
import { SessionStoreModule } from '@app/session-store';
import { TelemetryModule } from '@app/telemetry';
import { AdmissionModule } from './admission/admission.module';
import { ConversationsModule } from './conversations/conversations.module';
import { HealthModule } from './health/health.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { OpsModule } from './ops/ops.module';
import { ResponsesModule } from './responses/responses.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LifecycleModule,
        TelemetryModule,
        AdmissionModule,
        RedisModule,
        DatabaseModule,
        SessionStoreModule,
        HealthModule,
        ResponsesModule,
        ConversationsModule,
        OpsModule,
      ],
    };
  }
}
