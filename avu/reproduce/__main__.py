from avu.threads import choose_wait_policy

choose_wait_policy()  # before torch is imported (avu.threads)

from avu.reproduce.cli import main  # noqa: E402

raise SystemExit(main())
