"""``python app.py --ngrok``: a public HTTPS URL for Slack (pyngrok), used as ``public_url``.

The ngrok binary comes from ``$PYNGROK_NGROK_PATH`` (or pyngrok's default, downloaded on first use) and the
authtoken from ``$NGROK_AUTHTOKEN`` (or ngrok's own config file). Every failure -- no network, no binary,
no token -- is a TunnelError with the fix, raised within seconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.urls import Urls

STARTUP_TIMEOUT_S = 8
REQUEST_TIMEOUT_S = 4.0


class TunnelError(Exception):
    """The tunnel could not be opened; the message says why and what to do."""


@dataclass
class Tunnel:
    public_url: str
    _pyngrok_config: object

    def close(self) -> None:
        from pyngrok import ngrok
        from pyngrok.exception import PyngrokError

        try:
            ngrok.disconnect(self.public_url, pyngrok_config=self._pyngrok_config)
        except PyngrokError:
            pass
        ngrok.kill(pyngrok_config=self._pyngrok_config)


def _config_has_token(path: str) -> bool:
    try:
        return any(line.strip().startswith("authtoken:") for line in Path(path).read_text().splitlines())
    except OSError:
        return False


def open_tunnel(cfg, port: int) -> Tunnel:
    """Open an HTTPS tunnel to 127.0.0.1:port, set ``cfg.public_url`` and print the URLs to paste into Slack."""
    if not cfg.auth.token:
        raise TunnelError("Refusing --ngrok: a public tunnel would open the editor to anyone on the internet. "
                          "Fix: set auth.token in the config (then the editor needs that token or a signed link).")
    from pyngrok import conf, ngrok
    from pyngrok.exception import PyngrokError

    pyngrok_config = conf.PyngrokConfig(startup_timeout=STARTUP_TIMEOUT_S, request_timeout=REQUEST_TIMEOUT_S)
    if not pyngrok_config.auth_token and not _config_has_token(conf.get_config_path(pyngrok_config)):
        raise TunnelError("--ngrok needs an ngrok authtoken and none is set. Fix: export NGROK_AUTHTOKEN=<your token> "
                          "(from https://dashboard.ngrok.com/get-started/your-authtoken), or run "
                          "`ngrok config add-authtoken <token>`.")
    try:
        tunnel = ngrok.connect(str(port), "http", pyngrok_config=pyngrok_config)
    except PyngrokError as err:
        try:
            ngrok.kill(pyngrok_config=pyngrok_config)
        except PyngrokError:
            pass
        raise TunnelError(
            f"--ngrok failed: could not open an ngrok tunnel ({type(err).__name__}: {str(err).strip()[:500]}). "
            "Fix: check the network, put the ngrok binary at $PYNGROK_NGROK_PATH (now "
            f"{pyngrok_config.ngrok_path}), and set $NGROK_AUTHTOKEN to your ngrok authtoken; "
            "or run without --ngrok and set public_url in the config.") from None
    url = tunnel.public_url
    if url.startswith("http://"):
        url = "https://" + url[len("http://"):]
    cfg.public_url = url
    print(f"Public URL (ngrok): {url}", flush=True)
    print(f"Slack request URL (paste into your Slack app: Slash Commands, Interactivity): {Urls(url).slack_events()}",
          flush=True)
    return Tunnel(public_url=tunnel.public_url, _pyngrok_config=pyngrok_config)
