-- A conversation's version: bumped once by every statement that adds or removes any of its items, whoever runs it
-- (this build, a replica of the previous build during a rolling upgrade, SQL by hand). A cached copy of the items
-- is keyed by it (see ConversationCache), so a copy can be absent, never stale.
ALTER TABLE "conversations" ADD COLUMN "version" BIGINT NOT NULL DEFAULT 0;

-- The body's semicolons are written \x3B: the migration runner splits the file at every semicolon, even quoted ones.
CREATE FUNCTION "conversation_items_bump_version"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
  UPDATE "conversations" SET "version" = "version" + 1
   WHERE "id" IN (SELECT DISTINCT "conversation_id" FROM "changed_items")\x3B
  RETURN NULL\x3B
END
';

CREATE TRIGGER "conversation_items_inserted" AFTER INSERT ON "conversation_items"
  REFERENCING NEW TABLE AS "changed_items" FOR EACH STATEMENT EXECUTE FUNCTION "conversation_items_bump_version"();
CREATE TRIGGER "conversation_items_deleted" AFTER DELETE ON "conversation_items"
  REFERENCING OLD TABLE AS "changed_items" FOR EACH STATEMENT EXECUTE FUNCTION "conversation_items_bump_version"();

-- An item is in a conversation at most once, also when two appends carrying it run at the same time (an append's
-- own check cannot see rows committed while it waited for the conversation's lock): duplicates of earlier builds
-- are dropped, keeping the first.
DELETE FROM "conversation_items" AS "later"
 USING "conversation_items" AS "earlier"
 WHERE "later"."conversation_id" = "earlier"."conversation_id"
   AND "later"."item_id" = "earlier"."item_id"
   AND "later"."position" > "earlier"."position";
DROP INDEX "conversation_items_conversation_id_item_id_idx";
CREATE UNIQUE INDEX "conversation_items_conversation_id_item_id_key" ON "conversation_items"("conversation_id", "item_id");
