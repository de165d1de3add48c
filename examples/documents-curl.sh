#!/bin/sh
# The document API from the shell, signed with AWS Signature Version 4 by curl itself (curl >= 7.75).
#
#   N3_DOCUMENTS_API   the API base: the stack output DocumentsApiUrl; default http://127.0.0.1:3000/ (npm start)
#   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [, AWS_SESSION_TOKEN]
#                      credentials of a principal with the stack's consumer policy; default the local dummy
#                      ones (local / local), which npm start checks signatures against
#   AWS_REGION         the stack's region; default eu-central-1 (npm start's)
#
#   sh examples/documents-curl.sh doc idDocumentMis_2125630
#   sh examples/documents-curl.sh list remd failed 1d
#   sh examples/documents-curl.sh expect idDocumentMis_2125630 remd 24h
#   sh examples/documents-curl.sh silent
#
# Document ids go into the path as they are: percent-encode any character outside A-Z a-z 0-9 - _ . ~ first.
set -eu

API="${N3_DOCUMENTS_API:-http://127.0.0.1:3000/}"
case "$API" in */) ;; *) API="$API/" ;; esac
REGION="${AWS_REGION:-eu-central-1}"
KEY="${AWS_ACCESS_KEY_ID:-local}"
SECRET="${AWS_SECRET_ACCESS_KEY:-local}"

signed() {
  # --aws-sigv4 "aws:amz:<region>:<service>": API Gateway's IAM auth expects the service execute-api.
  if [ -n "${AWS_SESSION_TOKEN:-}" ]; then
    curl -sS --fail-with-body --aws-sigv4 "aws:amz:$REGION:execute-api" --user "$KEY:$SECRET" \
      -H "X-Amz-Security-Token: $AWS_SESSION_TOKEN" "$@"
  else
    curl -sS --fail-with-body --aws-sigv4 "aws:amz:$REGION:execute-api" --user "$KEY:$SECRET" "$@"
  fi
}

case "${1:-}" in
  doc) signed "${API}documents/$2" ;;
  # Query parameters in alphabetical order: curl before 8.1 signs them as written, AWS sorts them.
  list) signed "${API}documents?since=${4:-1d}&stage=$2&state=$3" ;;
  expect) signed -X PUT -H 'Content-Type: application/json' --data "{\"within\":\"$4\"}" "${API}documents/$2/expectations/$3" ;;
  silent) signed "${API}documents?silent=true" ;;
  *)
    echo "usage: $0 doc <id> | list <stage> <state> [since] | expect <id> <stage> <within> | silent" >&2
    exit 2
    ;;
esac
echo
