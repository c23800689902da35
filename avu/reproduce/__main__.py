from avu.threads import prefer_passive_wait

prefer_passive_wait()  # before torch is imported (avu.threads)

from avu.reproduce.cli import main  # noqa: E402

raise SystemExit(main())
