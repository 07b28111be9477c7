package undo

// noFollow is 0 on Windows, which has no O_NOFOLLOW: the files are
// checked with Lstat before they are opened instead.
const noFollow = 0
