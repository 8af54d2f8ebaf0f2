#!/usr/bin/env bash
# Builds the single executable that the image runs: `scripts/build-binary.sh [OUTFILE]`
# (default dist/helios-analytics). The Containerfile and tests/deploy/compiled-binary.test.ts
# both call this script, so CI proves the exact binary the image ships.
#
# Why these flags:
#   --asset=migrations      embeds migrations/*.sql; src/db/migrate.ts reads them from the
#                           executable's virtual root, so the Job and the API agree on checksums.
#   --minify-whitespace/-syntax but not identifiers: Elysia reads handler source text to infer
#                           what each handler uses; renamed identifiers would change that.
#   --no-compile-autoload-*  a .env or bunfig.toml in the working directory must not change
#                           how the production binary behaves; configuration is the environment.
set -euo pipefail
cd "$(dirname "$0")/.."

outfile="${1:-dist/helios-analytics}"
mkdir -p "$(dirname "$outfile")"

bun build src/main.ts \
  --compile \
  --target=bun \
  --minify-whitespace \
  --minify-syntax \
  --asset=migrations \
  --no-compile-autoload-dotenv \
  --no-compile-autoload-bunfig \
  --outfile "$outfile"
