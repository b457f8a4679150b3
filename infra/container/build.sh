#!/usr/bin/env bash
# Builds the train container image from this workspace: the train binary (the train function's own,
# started as `train --task <dataset> <trigger>`), the shared system libraries it links (glibc's,
# copied from this machine) and the CA certificates, on a scratch base. Nothing is pulled, so the
# build works offline. The image runs on x86_64, as the template's task definition says.
#
# Usage: infra/container/build.sh [tag, default mlops-train:latest]
#   PROFILE=dev reuses the debug build (the tests); the default, release, is the one to deploy:
#   push it to ECR and pass its URI as the stack's TrainTaskImage.
set -euo pipefail
cd "$(dirname "$0")/../.."
TAG=${1:-mlops-train:latest}
PROFILE=${PROFILE:-release}

cargo build --quiet --locked --profile "$PROFILE" --bin train
binary=target/$([ "$PROFILE" = dev ] && echo debug || echo "$PROFILE")/train
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
root=$context/rootfs
mkdir -p "$root/etc/ssl/certs" "$root/tmp"
cp "$binary" "$root/train"
# Every library the loader resolves, and the loader itself, at the paths the binary names.
for library in $(ldd "$binary" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$library")"
  cp -L "$library" "$root$library"
done
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
# Training copies the curated data it reads to a temporary folder.
chmod 1777 "$root/tmp"
cp infra/container/Dockerfile "$context/"
# Docker's own progress and its legacy-builder notice only when the build fails.
docker build --quiet --tag "$TAG" "$context" >"$context/build.log" 2>&1 || { cat "$context/build.log"; exit 1; }
echo "built $TAG ($(docker image inspect "$TAG" --format '{{.Size}}' | awk '{printf "%.0f MB", $1 / 1e6}'))"
