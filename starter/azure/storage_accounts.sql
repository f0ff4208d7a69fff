-- ---
-- name: Azure storage accounts
-- description: Storage accounts of a subscription: kind, location, access tier, HTTPS-only, creation time.
-- provider: azure
-- provider_version: registry source azure/v00.00.00000 at commit 2f6fff53
-- resource: azure.storage.storage_accounts
-- cron: 0 6 * * *
-- table: azure_storage_accounts
-- keys: id
-- variables: subscription_id
-- ---
SELECT id, name, kind, location, accessTier, supportsHttpsTrafficOnly, creationTime
FROM azure.storage.storage_accounts
WHERE subscription_id = {{ subscription_id }}
