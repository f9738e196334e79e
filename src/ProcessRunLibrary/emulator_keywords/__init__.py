"""The Robot side of the emulator: the keyword classes of `ProcessRunLibrary.Emulator`, a
client of the emulator's admin API (`handle.Handle`). Nothing here is imported by the
emulator itself, nor by ProcessRunLibrary's own keywords."""
