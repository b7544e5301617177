// A stand-in for next/server: NextResponse.redirect, like Next's, accepts
// only an absolute URL.
export class NextResponse extends Response {
  static redirect(url, status) {
    return new NextResponse(null, { status, headers: { Location: String(new URL(String(url))) } });
  }
}
