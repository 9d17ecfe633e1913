# Sourced (by .ci/run and scripts/with-node-24.sh): puts Node 24 LTS first on PATH. Node 20 is end of
# life; when the machine's node is not 24, Node 24 comes from the npm registry, which carries it as a
# plain package per platform (its binary only, no install script), installed once into a directory of
# its own ($TMPDIR/node-<version>-<platform>). NODE_24_VERSION overrides the version.
NODE_24="${NODE_24_VERSION:-24.21.0}"
if ! node --version 2>/dev/null | grep -q '^v24\.'; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) node_24_platform=linux-x64 ;;
    Linux-aarch64) node_24_platform=linux-arm64 ;;
    Darwin-arm64) node_24_platform=darwin-arm64 ;;
    Darwin-x86_64) node_24_platform=darwin-x64 ;;
    *) echo "No Node 24 package for $(uname -s)-$(uname -m): install Node 24 and run again" >&2; exit 1 ;;
  esac
  node_24_dir="${TMPDIR:-/tmp}/node-${NODE_24}-${node_24_platform}"
  if [ ! -x "${node_24_dir}/node_modules/node-${node_24_platform}/bin/node" ]; then
    echo "== installing Node ${NODE_24} (node-${node_24_platform}) from the npm registry" >&2
    npm install --prefix "${node_24_dir}" --no-save --no-audit --no-fund --no-package-lock \
      "node-${node_24_platform}@${NODE_24}" >&2
  fi
  export PATH="${node_24_dir}/node_modules/node-${node_24_platform}/bin:$PATH"
fi
