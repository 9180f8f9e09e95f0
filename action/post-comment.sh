#!/usr/bin/env bash
# Post a pull-request comment, or update the one llmarch posted before: the comment whose
# body starts with the hidden marker `<!-- llmarch -->`. Used by the composite action
# (action.yml at the repository root); needs the GitHub CLI `gh`, and GH_TOKEN with
# `pull-requests: write`.
#
#   post-comment.sh COMMENT_FILE OWNER/REPO PR_NUMBER
set -euo pipefail
file="$1" repo="$2" pr="$3"
marker='<!-- llmarch -->'
case "$pr" in ''|*[!0-9]*) echo "post-comment.sh: not a pull-request number: '$pr'" >&2; exit 2 ;; esac
# GitHub refuses comments over 65,536 characters: keep the start, and say so
limit=60000
if [ "$(wc -c < "$file")" -gt "$limit" ]; then
    short="$(mktemp)"
    head -c "$limit" "$file" > "$short"
    printf '\n\n… the comment was cut at %s characters; run `llmarch pr-comment` for all of it.\n' "$limit" >> "$short"
    file="$short"
fi
existing="$(gh api --paginate "repos/$repo/issues/$pr/comments" \
    --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | head -n 1)"
if [ -n "$existing" ]; then
    gh api --method PATCH "repos/$repo/issues/comments/$existing" -F "body=@$file" --silent
    echo "updated comment $existing on $repo#$pr"
else
    gh api --method POST "repos/$repo/issues/$pr/comments" -F "body=@$file" --silent
    echo "posted a comment on $repo#$pr"
fi
