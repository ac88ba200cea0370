# ocpp_csms_setup.sh - sourced by the OCPP-J integration tests: brings in the npm package
# ocpp-rpc for ocpp_csms.js (the strict-mode test CSMS) and points NODE_PATH at it.
#
#   source "$(dirname "$0")/ocpp_csms_setup.sh"
#   ocpp_csms_deps || exit $?      # 77 (skip) when node/npm are missing or the install fails
#   node "$(dirname "$0")/ocpp_csms.js" --port "$P" --log "$T/csms.jsonl" ...
#
# The package is installed once into ${CS_NPM_CACHE:-$HOME/.cache/chargeswarm/npm}, outside the
# repository, and reused; nothing is printed when it is already there.

OCPP_RPC_VERSION=2.2.1
OCPP_CSMS_JS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/ocpp_csms.js"

ocpp_csms_deps() {
  local dir="${CS_NPM_CACHE:-$HOME/.cache/chargeswarm/npm}"
  if ! command -v node >/dev/null 2>&1; then
    echo "SKIP: node not installed (the OCPP-J tests need Node.js >= 18 and npm)"
    return 77
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "${major:-0}" -lt 18 ]; then
    echo "SKIP: node $(node --version 2>/dev/null) is too old for ocpp-rpc (needs >= 18)"
    return 77
  fi
  _ocpp_rpc_ok() {
    node -e 'const [d, v] = process.argv.slice(1);
      if (require(d + "/ocpp-rpc/package.json").version !== v) process.exit(1);
      require(d + "/ocpp-rpc"); require(d + "/ocpp-rpc/lib/standard-validators");' \
      "$dir/node_modules" "$OCPP_RPC_VERSION" >/dev/null 2>&1
  }
  if ! _ocpp_rpc_ok; then
    if ! command -v npm >/dev/null 2>&1; then
      echo "SKIP: npm not installed (needed once to install ocpp-rpc@$OCPP_RPC_VERSION into $dir)"
      return 77
    fi
    mkdir -p "$dir" || { echo "SKIP: cannot create $dir"; return 77; }
    echo "installing ocpp-rpc@$OCPP_RPC_VERSION into $dir"
    # Tests running side by side install one at a time (flock where there is one).
    local rc=0
    (
      if command -v flock >/dev/null 2>&1; then flock 9; fi
      _ocpp_rpc_ok && exit 0
      npm install --prefix "$dir" --no-audit --no-fund --save-exact --loglevel=error \
        --fetch-retries=1 --fetch-timeout=60000 "ocpp-rpc@$OCPP_RPC_VERSION" >"$dir/install.log" 2>&1
    ) 9>"$dir/.lock" || rc=$?
    if [ "$rc" -ne 0 ] || ! _ocpp_rpc_ok; then
      echo "SKIP: npm install ocpp-rpc@$OCPP_RPC_VERSION into $dir failed:"
      tail -n 15 "$dir/install.log" 2>/dev/null | sed 's/^/  /'
      return 77
    fi
  fi
  case ":${NODE_PATH:-}:" in
    *":$dir/node_modules:"*) ;;
    *) export NODE_PATH="$dir/node_modules${NODE_PATH:+:$NODE_PATH}" ;;
  esac
  return 0
}
