package report

// noFollow is 0 on Windows, which has no O_NOFOLLOW; the command refuses
// a report that is a link before it opens it (report/resume.Decide).
const noFollow = 0
