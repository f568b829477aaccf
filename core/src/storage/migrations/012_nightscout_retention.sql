-- Retention of Nightscout documents (core/src/storage/maintenance.ts): past READING_RETENTION_DAYS
-- by the time they tell of, like readings. The hourly delete finds them by this index, not by a
-- scan of every patient's documents.
create index nightscout_documents_retention on nightscout_documents (date_ms);
