// <quantity-input>: wraps a number field with − and + buttons. With
// data-autosubmit, a press of − or + sends the field's form shortly after
// (the cart's quantities); typing waits for the form's own button or Enter.
class QuantityInput extends HTMLElement {
  connectedCallback() {
    const input = this.querySelector('input');
    if (!input || this.querySelector('button')) return;
    let timer;
    const autosubmit = this.hasAttribute('data-autosubmit');
    const step = (delta, label) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = delta < 0 ? '−' : '+';
      button.setAttribute('aria-label', `${label} (${input.labels?.[0]?.textContent?.trim() ?? 'quantity'})`);
      button.addEventListener('click', () => {
        const min = Number(input.min || 0);
        const max = Number(input.max || 999);
        const next = Math.min(max, Math.max(min, (Number(input.value) || 0) + delta));
        if (String(next) === input.value) return;
        input.value = String(next);
        input.dispatchEvent(new Event('change', { bubbles: true }));
        if (autosubmit) {
          clearTimeout(timer);
          timer = setTimeout(() => input.form?.requestSubmit(), 400);
        }
      });
      return button;
    };
    this.prepend(step(-1, 'Decrease'));
    this.append(step(1, 'Increase'));
  }
}
customElements.define('quantity-input', QuantityInput);
