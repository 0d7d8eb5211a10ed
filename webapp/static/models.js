// Several models behind one endpoint: which one a photo goes to, and the URL that asks for it.
// The page lists the models only when the endpoint serves two or more; else no picker, no `?model=`.

/** `apiUrl` with `?model=` set, keeping its other parameters (max_people, ...). */
export function modelUrl(apiUrl, model) {
  const url = new URL(apiUrl, window.location.href);
  url.searchParams.set("model", model);
  return url.href;
}

function fillOptions(select, names, preferred) {
  const options = names.map((name, index) => {
    const option = document.createElement("option");
    option.value = name;
    option.textContent = select.id === "model-select" && index === 0 ? `${name} (default)` : name;
    return option;
  });
  select.replaceChildren(...options);
  select.value = names.includes(preferred) ? preferred : names[0];
}

/**
 * The picker's controls, or null on a single-model page. `onChange(callback)`: called after any of
 * them changes; `replaceModels(names)`: the API listed other models (the page was older than the endpoint).
 */
export function modelPicker() {
  const select = document.getElementById("model-select");
  if (!select) return null;
  const toggle = document.getElementById("compare-toggle");
  const second = document.getElementById("compare-select");
  const chip = document.getElementById("model-name");

  function sync() {
    second.disabled = !toggle.checked;
    if (toggle.checked && second.value === select.value) {
      const other = Array.from(second.options).find((option) => option.value !== select.value);
      if (other) second.value = other.value;
    }
    chip.textContent = toggle.checked ? `${select.value} vs ${second.value}` : select.value;
    document.body.dataset.compare = toggle.checked ? "on" : "off";
  }

  sync();
  return {
    selected: () => select.value,
    comparing: () => toggle.checked,
    pair: () => [select.value, second.value],
    onChange(callback) {
      for (const control of [select, toggle, second]) {
        control.addEventListener("change", () => {
          sync();
          callback();
        });
      }
    },
    replaceModels(names) {
      fillOptions(select, names, select.value);
      fillOptions(second, names, second.value);
      sync();
    },
  };
}
