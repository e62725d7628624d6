# Sourced by the setup scripts: checksum-pinned downloads. The caller defines note() and
# die().
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# fetch URL SHA256 DEST: downloads URL to DEST unless DEST already has SHA256.
fetch() {
  local url=$1 sum=$2 dest=$3
  if [ -f "$dest" ] && [ "$(sha256_of "$dest")" = "$sum" ]; then
    note "cached: $(basename "$dest")"
    return 0
  fi
  note "downloading $(basename "$dest")"
  mkdir -p "$(dirname "$dest")"
  curl -fL --retry 3 --progress-bar -o "$dest.tmp" "$url" || die "download failed: $url"
  local got
  got=$(sha256_of "$dest.tmp")
  [ "$got" = "$sum" ] || { rm -f "$dest.tmp"; die "checksum mismatch for $url: expected $sum, got $got"; }
  mv "$dest.tmp" "$dest"
}
