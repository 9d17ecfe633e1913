-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateTable
CREATE TABLE "responses" (
    "id" TEXT NOT NULL,
    "session_id" TEXT NOT NULL,
    "parent_response_id" TEXT,
    "owner_hash" CHAR(64) NOT NULL,
    "model" TEXT NOT NULL,
    "store" BOOLEAN NOT NULL DEFAULT true,
    "input" JSONB,
    "instructions" TEXT,
    "output" JSONB,
    "params" JSONB,
    "metadata" JSONB,
    "status" TEXT NOT NULL,
    "error" JSONB,
    "incomplete_details" JSONB,
    "input_tokens" INTEGER NOT NULL DEFAULT 0,
    "output_tokens" INTEGER NOT NULL DEFAULT 0,
    "total_tokens" INTEGER NOT NULL DEFAULT 0,
    "cached_tokens" INTEGER NOT NULL DEFAULT 0,
    "reasoning_tokens" INTEGER NOT NULL DEFAULT 0,
    "history_source" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "completed_at" TIMESTAMPTZ(3),
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "responses_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "responses_parent_response_id_idx" ON "responses"("parent_response_id");

-- CreateIndex
CREATE INDEX "responses_session_id_created_at_idx" ON "responses"("session_id", "created_at");

-- CreateIndex
CREATE INDEX "responses_owner_hash_created_at_idx" ON "responses"("owner_hash", "created_at");

