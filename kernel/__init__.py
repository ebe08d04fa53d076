"""The shared kernel: what every app may import (money, database helpers, admin mixins,
and, as they land, bank numbers, the CSV writer, the four-eyes mechanism). It imports no
app of Caisse: an app that needs the kernel to act for it registers a handler."""
