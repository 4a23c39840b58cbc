#!/usr/bin/env bash
# Writes a development security set-up into DIR (default .casetrail/security): an Ed25519 token
# signing key pair for each of the example's two local authorities, a copy of
# deploy/security/example.textproto that points at them, and a bearer token (8 hours) for each role
# of each authority in DIR/tokens/<tenant>-<role>.jwt. The people are the demo case's (README.md).
# Development only: a deployment's tokens come from each authority's identity provider.
#   tools/dev-security.sh [DIR] [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$root/.casetrail/security}
build=${2:-${CASETRAIL_BUILD_DIR:-$root/build}}
cli="$build/tools/casetrail"
[[ -x $cli ]] || { echo "dev-security: build the casetrail CLI first ($cli)" >&2; exit 2; }
mkdir -p "$dir/tokens"
for tenant in northshire southvale; do
  if [[ ! -f $dir/$tenant/jwt_signing.key ]]; then
    "$cli" token keygen --out="$dir/$tenant" --key_id="$tenant-1" >/dev/null
  fi
done
sed -e "s|keys/northshire-idp.pub|northshire/jwt_signing.pub|" \
    -e "s|keys/southvale-idp.pub|southvale/jwt_signing.pub|" \
    "$root/deploy/security/example.textproto" >"$dir/security.textproto"

# issue TENANT ROLE SUBJECT TEAM
issue() {
  local issuer="https://idp.$1.example"
  "$cli" token issue --signing_key="$dir/$1/jwt_signing.key" --key_id="$1-1" \
    --issuer="$issuer" --audience=casetrail --tenant="$1" --role="$2" --subject="$3" \
    --team="$4" --ttl=8h >"$dir/tokens/$1-$2.jwt"
}
issue northshire upstream_system mosaic-northshire ""
issue northshire social_worker ns-lwilliams "Assessment Team East"
issue northshire team_manager ns-mbrennan "Assessment Team East"
issue northshire service_manager ns-service-manager "Children's Services"
issue northshire panel_chair ns-channel-chair "Prevent and Channel"
issue northshire reviewer ns-reviewer-1 "Safeguarding Partnership"
issue northshire auditor ns-ig-officer "Information Governance"
issue northshire administrator ns-admin "ICT"
issue southvale upstream_system lcs-southvale ""
issue southvale social_worker sv-sw-1 "Duty and Assessment"
issue southvale auditor sv-ig-officer "Information Governance"
echo "dev-security: config $dir/security.textproto, tokens in $dir/tokens/"
