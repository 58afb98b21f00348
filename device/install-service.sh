# Shared by install-rpi.sh and install-jetson.sh (sourced, not run): config, state folder, bundle,
# credential placeholder and the systemd unit. Needs PREFIX and BUNDLE set by the caller.

install -d -m 0755 "$PREFIX/device"
install -m 0644 "$DEVICE_DIR/README.md" "$PREFIX/device/README.md"
install -d -o root -g edgeemo -m 0750 /etc/edgeemo
if [[ ! -f /etc/edgeemo/edgeemo.toml ]]; then
  install -o root -g edgeemo -m 0640 "$DEVICE_DIR/edgeemo.example.toml" /etc/edgeemo/edgeemo.toml
  # With a bundle given, point the fresh config at it; without, the shipped reference model is used.
  if [[ -n "$BUNDLE" ]]; then sed -i 's|^# path = "/var/lib/edgeemo/bundle"|path = "/var/lib/edgeemo/bundle"|' /etc/edgeemo/edgeemo.toml; fi
fi
install -d -o edgeemo -g edgeemo -m 0750 /var/lib/edgeemo
if [[ -n "$BUNDLE" ]]; then
  rm -rf /var/lib/edgeemo/bundle
  if [[ -d "$BUNDLE" ]]; then cp -r "$BUNDLE" /var/lib/edgeemo/bundle; else mkdir /var/lib/edgeemo/bundle && tar -xzf "$BUNDLE" -C /var/lib/edgeemo/bundle --strip-components=1; fi
  chown -R edgeemo:edgeemo /var/lib/edgeemo/bundle
fi
# LoadCredential= needs the file to exist; put the real MQTT password in it (or leave it empty).
[[ -f /etc/edgeemo/mqtt-password ]] || install -o root -g root -m 0600 /dev/null /etc/edgeemo/mqtt-password

install -m 0644 "$DEVICE_DIR/../systemd/edgeemo.service" /etc/systemd/system/edgeemo.service
systemctl daemon-reload
"$PREFIX/venv/bin/edgeemo" daemon --config /etc/edgeemo/edgeemo.toml --validate-config
