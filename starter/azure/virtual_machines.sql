-- ---
-- name: Azure virtual machines
-- description: All VMs of a subscription with their location and provisioning state.
-- provider: azure
-- provider_version: registry source azure/v00.00.00000 at commit 2f6fff53
-- resource: azure.compute.virtual_machines
-- cron: 0 */6 * * *
-- table: azure_virtual_machines
-- keys: id
-- variables: subscription_id
-- ---
SELECT id, name, location, provisioningState, vmId, priority
FROM azure.compute.virtual_machines
WHERE subscription_id = {{ subscription_id }}
