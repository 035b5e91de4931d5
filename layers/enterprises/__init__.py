"""The district's enterprises on the grid (issue 19): their register, located addresses, digests."""
