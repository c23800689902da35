from avu.cli import main

raise SystemExit(main())
