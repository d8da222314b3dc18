from servicepoint.cli import main

raise SystemExit(main())
