-- AlterTable
ALTER TABLE "responses" ADD COLUMN     "conversation_id" TEXT;

-- CreateTable
CREATE TABLE "conversations" (
    "id" TEXT NOT NULL,
    "owner_hash" CHAR(64) NOT NULL,
    "metadata" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "conversations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "conversation_items" (
    "position" BIGSERIAL NOT NULL,
    "conversation_id" TEXT NOT NULL,
    "item_id" TEXT NOT NULL,
    "item" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "conversation_items_pkey" PRIMARY KEY ("position")
);

-- CreateIndex
CREATE INDEX "conversations_owner_hash_created_at_idx" ON "conversations"("owner_hash", "created_at");

-- CreateIndex
CREATE INDEX "conversation_items_conversation_id_position_idx" ON "conversation_items"("conversation_id", "position");

-- CreateIndex
CREATE INDEX "conversation_items_conversation_id_item_id_idx" ON "conversation_items"("conversation_id", "item_id");

