from avu.reproduce.cli import main

raise SystemExit(main())
