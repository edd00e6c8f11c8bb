from policytag.cli import main

raise SystemExit(main())
