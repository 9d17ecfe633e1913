export * from './bulkhead';
export * from './database.module';
export * from './prisma.service';
export { Prisma } from './generated/prisma/client';
export type { ResponseRecord } from './generated/prisma/client';
