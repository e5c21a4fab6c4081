#!/usr/bin/env bash
# The yaml-language-server oracle: the npm package, installed under .oracles/yaml-language-server
# (git-ignored), for tests/test_schema_yamlls.py, which validates configs against the JSON Schemas
# `epochlint schema` exports, as the YAML extension of VS Code and other editors do.
# A second run finds it installed and returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
folder=.oracles/yaml-language-server
# The release the test is held to.
version=1.25.0
binary="$folder/node_modules/.bin/yaml-language-server"

installed() {
  [ -x "$binary" ] && [ "$(node -p "require('./$folder/node_modules/yaml-language-server/package.json').version")" = "$version" ]
}

if ! installed; then
  mkdir -p "$folder"
  npm install --prefix "$folder" --no-save --no-audit --no-fund --loglevel=error "yaml-language-server@$version"
fi
node -e "require('./$folder/node_modules/yaml-language-server/package.json')"
echo "yaml-language-server oracle ready in $folder ($version, $(( $(date +%s) - start )) s)"
