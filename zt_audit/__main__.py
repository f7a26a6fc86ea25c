from zt_audit.cli.app import main

raise SystemExit(main())
