#!/usr/bin/env bash
# Installs the Debian packages the tests need (browser, broker, media tools) when missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_passwd >/dev/null 2>&1 || need+=(mosquitto)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
command -v caddy >/dev/null 2>&1 || need+=(caddy)            # the compose file's HTTPS proxy
command -v openssl >/dev/null 2>&1 || need+=(openssl)        # test CA for TLS
command -v wget >/dev/null 2>&1 || need+=(wget)              # the proxy's healthcheck
command -v curl >/dev/null 2>&1 || need+=(curl)              # the api's healthcheck
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)  # zh-CN in screenshots
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
