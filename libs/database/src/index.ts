export * from './database.module';
export * from './prisma.service';
export type { Prisma, ResponseRecord } from './generated/prisma/client';
