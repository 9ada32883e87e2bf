#!/usr/bin/env sh
# Prints the digest (sha256:...) the registry serves for the Dockerfile's Node base tag, for
# `docker build --build-arg NODE_DIGEST=...`. Needs network access and docker buildx.
set -eu
tag="${1:-$(sed -n 's/^ARG NODE_TAG=//p' "$(dirname "$0")/../Dockerfile")}"
docker buildx imagetools inspect "docker.io/library/node:${tag}" --format '{{json .Manifest}}' | sed -n 's/.*"digest":"\(sha256:[0-9a-f]\{64\}\)".*/\1/p' | head -n 1
