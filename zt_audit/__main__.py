from zt_audit.cli.app import run

run()
