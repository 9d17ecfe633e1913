#!/usr/bin/env node
// Runs the Prisma CLI with the offline-safe environment our machines need:
// `prisma generate` only skips the engine download when DATABASE_URL is set (any
// well-formed URL will do), so a default is supplied when the caller has none.
'use strict';
const { spawnSync } = require('node:child_process');

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
if (!env.DATABASE_URL) env.DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

const cli = require.resolve('prisma/build/index.js');
const preload = require.resolve('./prisma-exit-promptly.js');
const result = spawnSync(process.execPath, ['-r', preload, cli, ...process.argv.slice(2)], { stdio: 'inherit', env });
if (result.error) {
  console.error(result.error.message);
  process.exit(1);
}
process.exit(result.status ?? 1);
