-- ---
-- name: GitHub branch protection
-- description: Protection rules of a branch (reviews, admins, force pushes, deletions) for one repository.
-- provider: github
-- provider_version: registry source github/v00.00.00000 at commit 2f6fff53
-- resource: github.repos.branch_protection
-- cron: 0 6 * * *
-- table: github_branch_protection
-- keys: url
-- variables: owner, repo, branch
-- ---
SELECT url, enforce_admins, required_pull_request_reviews, required_status_checks, allow_force_pushes, allow_deletions, required_linear_history
FROM github.repos.branch_protection
WHERE owner = {{ owner }}
AND repo = {{ repo }}
AND branch = {{ branch }}
