-- ---
-- name: Azure resource groups
-- description: Resource groups of a subscription with their location and provisioning state.
-- provider: azure
-- provider_version: registry source azure/v00.00.00000 at commit 2f6fff53
-- resource: azure.resource.resource_groups
-- cron: 0 6 * * *
-- table: azure_resource_groups
-- keys: id
-- variables: subscription_id
-- ---
SELECT id, name, location, provisioningState, managedBy
FROM azure.resource.resource_groups
WHERE subscription_id = {{ subscription_id }}
