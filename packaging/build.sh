#!/usr/bin/env bash
# Builds Tollgate's release artefacts into dist/:
#   dist/tollgate-linux-amd64, dist/tollgate-linux-arm64   static binaries
#   dist/tollgate_<version>_<arch>.deb                     Debian packages (nfpm)
#   dist/SHA256SUMS
# The version is the git tag at HEAD (or `git describe`), overridable with
# VERSION=1.2.3; ARCHS="amd64" builds one architecture. nfpm is built from
# tools/go.mod, where it is pinned beside the linters.
#
# `go install github.com/tollgate-mail/tollgate/cmd/tollgate@latest` cannot
# work: go.mod replaces github.com/emersion/go-smtp with third_party/go-smtp,
# and `go install pkg@version` refuses modules with replace directives. Build
# from a checkout (this script, or `go build ./cmd/tollgate`) instead.
set -euo pipefail
cd "$(dirname "$0")/.."

archs=${ARCHS:-"amd64 arm64"}
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then commit="$commit-dirty"; fi
version=${VERSION:-$(git describe --tags --dirty 2>/dev/null || echo "0.0.0~git$(git rev-parse --short HEAD 2>/dev/null || echo unknown)")}
version=${version#v}
# The commit's time, so a rebuild of one commit gives the same bytes.
date=$(git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

ldflags="-s -w -X main.version=$version -X main.commit=$commit -X main.buildDate=$date"
mkdir -p dist
for arch in $archs; do
  echo "build: dist/tollgate-linux-$arch ($version, $commit)"
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -buildvcs=false \
    -ldflags "$ldflags" -o "dist/tollgate-linux-$arch" ./cmd/tollgate
done

tools="${TMPDIR:-/tmp}/tollgate-tools"
(cd tools && go build -o "$tools/" github.com/goreleaser/nfpm/v2/cmd/nfpm)
# nfpm wants a Debian version that starts with a digit.
case $version in [0-9]*) debversion=$version ;; *) debversion="0.0.0~$version" ;; esac
# nfpm expands $ARCH in arch but not in a file's src: stage each binary
# where nfpm.yaml takes it.
mkdir -p dist/.pkg
for arch in $archs; do
  cp "dist/tollgate-linux-$arch" dist/.pkg/tollgate
  ARCH=$arch VERSION=$debversion "$tools/nfpm" package --config packaging/nfpm.yaml \
    --packager deb --target dist/
done
rm -rf dist/.pkg
(cd dist && sha256sum tollgate-linux-* ./*.deb | sed 's# \./# #' > SHA256SUMS)
ls -l dist
