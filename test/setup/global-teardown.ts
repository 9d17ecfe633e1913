import { deleteKeys, dropDatabase } from './test-services';

export default async function globalTeardown(): Promise<void> {
  const { TEST_ADMIN_DATABASE_URL, TEST_DATABASE_NAME, REDIS_URL, REDIS_KEY_PREFIX } = process.env;
  if (TEST_ADMIN_DATABASE_URL && TEST_DATABASE_NAME) await dropDatabase(TEST_ADMIN_DATABASE_URL, TEST_DATABASE_NAME);
  if (REDIS_URL && REDIS_KEY_PREFIX) await deleteKeys(REDIS_URL, REDIS_KEY_PREFIX);
  for (const container of globalThis.__testContainers ?? []) await container.stop();
}
