-- ---
-- name: Google Cloud Storage buckets
-- description: Buckets of a project: location, storage class, creation and update time.
-- provider: google
-- provider_version: registry source googleapis.com/v00.00.00000 at commit 2f6fff53
-- resource: google.storage.buckets
-- cron: 0 6 * * *
-- table: google_storage_buckets
-- keys: id
-- variables: project
-- ---
SELECT id, name, location, locationType, storageClass, timeCreated, updated
FROM google.storage.buckets
WHERE project = {{ project }}
