"""``luopan serve``: the cockpit and REST API of a workspace (FastAPI on uvicorn)."""

from __future__ import annotations

from pathlib import Path

import typer

from luopan.cli.common import WORKSPACE_OPTION, open_workspace


def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="address to bind / 监听地址"),
        port: int = typer.Option(8710, "--port", help="port / 端口"),
        workers: int = typer.Option(1, "--workers", help="worker processes / 工作进程数"),
        secure_cookies: bool = typer.Option(
            False, "--secure-cookies", help="behind HTTPS: mark cookies Secure / HTTPS 部署时启用"
        ),
        log_level: str = typer.Option(
            "warning", "--log-level", help="uvicorn log level / 日志级别"
        ),
        warm_wait: float = typer.Option(
            300.0,
            "--warm-wait",
            help=(
                "seconds to wait for the cockpit caches to warm before accepting requests "
                "(0: accept at once) / 接受请求前等待驾驶舱缓存预热的秒数（0：立即接受）"
            ),
        ),
        workspace: Path = WORKSPACE_OPTION,
    ) -> None:
        """Serve the cockpit and the REST API (/api/v1). 启动数据驾驶舱与 REST API。

        Example / 示例: luopan serve -w demo-world --port 8710
        """
        import os

        import uvicorn

        ws, lang = open_workspace(workspace)
        os.environ["LUOPAN_SERVE_WORKSPACE"] = str(ws.root)
        os.environ["LUOPAN_SERVE_SECURE"] = "1" if secure_cookies else ""
        os.environ["LUOPAN_SERVE_WARM_WAIT"] = repr(max(warm_wait, 0.0))
        url = f"http://{host}:{port}/"
        typer.echo(f"{'驾驶舱' if lang == 'zh' else 'cockpit'}: {url}")
        if warm_wait > 0:
            typer.echo(
                f"正在预热缓存（最多 {warm_wait:g} 秒）…"
                if lang == "zh"
                else f"warming the caches (up to {warm_wait:g} s) …"
            )
        uvicorn.run(
            "luopan.api.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            proxy_headers=secure_cookies,
        )
