-- ---
-- name: GitHub archived repositories
-- description: Archived repositories of an organisation (candidates for clean-up).
-- provider: github
-- provider_version: registry source github/v00.00.00000 at commit 2f6fff53
-- resource: github.repos.repos
-- cron: 0 7 * * 1
-- table: github_archived_repos
-- keys: id
-- variables: org
-- ---
SELECT id, full_name, archived, pushed_at, updated_at
FROM github.repos.repos
WHERE org = {{ org }}
AND archived = 'true'
