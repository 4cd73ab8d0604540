// <live-region data-src="/admin/...">: replaces its content with the HTML of
// each `html` event of the server-sent event stream at data-src. The server
// renders the region from the same template as the page, so nothing is
// rendered twice; without JavaScript the page shows the figures it loaded with.
// The server ends each stream after a minute and EventSource connects again
// (the new request is authorized again); data-state says "stopped" when the
// server refused to go on (signed out, no longer staff).
class LiveRegion extends HTMLElement {
  connectedCallback() {
    const src = this.dataset.src;
    if (!src || !('EventSource' in window)) return;
    this.source = new EventSource(src);
    this.source.addEventListener('html', (event) => {
      this.innerHTML = event.data;
      this.dataset.state = 'live';
      this.dataset.updates = String(Number(this.dataset.updates || 0) + 1);
    });
    this.source.addEventListener('error', () => {
      this.dataset.state = this.source.readyState === EventSource.CLOSED ? 'stopped' : 'reconnecting';
    });
  }

  disconnectedCallback() {
    if (this.source) this.source.close();
  }
}

customElements.define('live-region', LiveRegion);
