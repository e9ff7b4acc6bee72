#!/usr/bin/env bash
# bootstrap-base.sh: build the Debian base image for claude-agent WITHOUT a container registry.
#
# What it does:
#   1. debootstrap --variant=minbase <suite> into a temporary directory, from a Debian mirror
#      (Debian's default http://deb.debian.org/debian unless MIRROR is set or a mirror is given);
#   2. trims it like the official "-slim" images (no docs, man pages or translations; apt lists and
#      package caches removed) and points apt at <suite>, <suite>-updates and <suite>-security;
#   3. imports it with `tar -C DIR -c . | docker import - <tag>` (default tag: debian:trixie-slim);
#   4. removes the temporary directory, whatever happens.
# If the tag already exists it does nothing, unless --force is given.
#
# What it needs: root (debootstrap creates device nodes and chroots), a running Docker engine reachable
# with the `docker` CLI, and network access to the Debian mirror. debootstrap and the Debian archive
# keyring are installed with apt-get when they are missing (elsewhere it says what to install).
# It takes from about 30 s to a few minutes, depending on the mirror.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: sudo agent-image/bootstrap-base.sh [--force] [TAG] [MIRROR]

Builds the base image for claude-agent without a container registry: runs
`debootstrap --variant=minbase SUITE` into a temporary directory, trims it like the
official -slim images and imports it into Docker with `docker import` as TAG.

  TAG       image tag to create            (default: $BASE_TAG or debian:trixie-slim)
  MIRROR    Debian mirror to bootstrap from (default: $MIRROR or http://deb.debian.org/debian)
  --force   rebuild even if TAG already exists (otherwise an existing TAG is kept)
  -h|--help show this help

Environment:
  BASE_TAG         default for TAG
  MIRROR           default for MIRROR
  SECURITY_MIRROR  security archive written to apt sources (default: http://deb.debian.org/debian-security)
  SUITE            Debian suite to bootstrap (default: trixie)

Needs: root, a running Docker engine (`docker` CLI) and network access to the mirror. Installs
debootstrap and debian-archive-keyring with apt-get when they are missing (on a host without
apt-get, install them first). Takes about 30 s to a few minutes.
EOF
}

force=0
positional=()
while (($# > 0)); do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    -f | --force)
      force=1
      ;;
    -*)
      echo "bootstrap-base: unknown option: $1" >&2
      usage >&2
      exit 2
      ;;
    *)
      positional+=("$1")
      ;;
  esac
  shift
done
if ((${#positional[@]} > 2)); then
  echo "bootstrap-base: too many arguments" >&2
  usage >&2
  exit 2
fi

tag="${positional[0]:-${BASE_TAG:-debian:trixie-slim}}"
mirror="${positional[1]:-${MIRROR:-http://deb.debian.org/debian}}"
security_mirror="${SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
suite="${SUITE:-trixie}"

# --- prerequisites -------------------------------------------------------------------------------
missing=0
if [[ "$(id -u)" -ne 0 ]]; then
  echo "bootstrap-base: must run as root (debootstrap creates device nodes and chroots): sudo $0 $*" >&2
  missing=1
fi
if ! command -v docker >/dev/null 2>&1; then
  echo "bootstrap-base: the docker CLI is missing: install Docker (https://docs.docker.com/engine/install/)" >&2
  missing=1
elif ! docker info >/dev/null 2>&1; then
  echo "bootstrap-base: cannot reach the Docker engine: start it (systemctl start docker) or set DOCKER_HOST" >&2
  missing=1
fi
if ((missing)); then
  exit 1
fi

if ((!force)) && docker image inspect "$tag" >/dev/null 2>&1; then
  echo "bootstrap-base: $tag already exists; nothing to do (use --force to rebuild it)"
  exit 0
fi

# debootstrap and the keyring it checks the archive's signatures with: installed here when missing.
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
need_pkgs=()
if ! command -v debootstrap >/dev/null 2>&1 && [[ ! -x /usr/sbin/debootstrap ]]; then need_pkgs+=(debootstrap); fi
if [[ ! -f "$keyring" ]]; then need_pkgs+=(debian-archive-keyring); fi
if ((${#need_pkgs[@]} > 0)); then
  if command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap-base: installing ${need_pkgs[*]} (apt-get install -y ${need_pkgs[*]})"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null; }; then
      echo "bootstrap-base: could not install ${need_pkgs[*]}; install them, then run this again:" >&2
      echo "  apt-get update && apt-get install -y ${need_pkgs[*]}" >&2
      exit 1
    fi
  else
    echo "bootstrap-base: ${need_pkgs[*]} missing, and this host has no apt-get: install debootstrap and the" >&2
    echo "  Debian archive keyring ($keyring) with your package manager (e.g. dnf install debootstrap" >&2
    echo "  debian-keyring), then run this again" >&2
    exit 1
  fi
fi
debootstrap_bin="$(command -v debootstrap || echo /usr/sbin/debootstrap)"

# --- bootstrap -----------------------------------------------------------------------------------
workdir="$(mktemp -d "${TMPDIR:-/tmp}/bootstrap-base.XXXXXX")"
cleanup() {
  # debootstrap may leave /proc or /sys mounted in the chroot if it is interrupted.
  for m in proc sys dev/pts; do
    if mountpoint -q "$workdir/rootfs/$m" 2>/dev/null; then umount -l "$workdir/rootfs/$m" || true; fi
  done
  rm -rf --one-file-system "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
rootfs="$workdir/rootfs"

start=$SECONDS
echo "bootstrap-base: debootstrap --variant=minbase $suite from $mirror (into $rootfs)"
"$debootstrap_bin" --variant=minbase "$suite" "$rootfs" "$mirror"

echo "bootstrap-base: trimming the root filesystem"
# Keep future package installs small, as the official -slim images do.
mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d" "$rootfs/etc/apt/apt.conf.d" "$rootfs/etc/apt/sources.list.d"
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
# Installed by agent-image/bootstrap-base.sh: no documentation, man pages or translations.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
# Installed by agent-image/bootstrap-base.sh: do not keep downloaded packages in the image.
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
cat >"$rootfs/etc/apt/apt.conf.d/docker-no-languages" <<'EOF'
Acquire::Languages "none";
EOF
cat >"$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes" <<'EOF'
Acquire::GzipIndexes "true";
EOF
rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# Drop what the exclusions above would not have installed, plus caches and host-specific files.
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda}/*
find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
  "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs"/var/cache/ldconfig/aux-cache "$rootfs"/tmp/* \
  "$rootfs"/var/tmp/* "$rootfs"/debootstrap
: >"$rootfs/etc/machine-id"
: >"$rootfs/etc/resolv.conf"
echo localhost >"$rootfs/etc/hostname"

echo "bootstrap-base: importing as $tag"
tar --numeric-owner --xattrs -C "$rootfs" \
  --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . |
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --message "debootstrap --variant=minbase $suite $mirror (agent-image/bootstrap-base.sh)" \
    - "$tag" >/dev/null

size="$(docker image inspect --format '{{.Size}}' "$tag")"
echo "bootstrap-base: built $tag ($((size / 1000000)) MB) in $((SECONDS - start)) s"
