from avu.profile.cli import main

raise SystemExit(main())
