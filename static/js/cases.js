// Case list: a header checkbox (data-select-all="NAME") ticks every row checkbox named NAME.
document.querySelectorAll("[data-select-all]").forEach((master) => {
  const boxes = () => document.querySelectorAll(`input[type=checkbox][name="${master.dataset.selectAll}"]`);
  const sync = () => {
    const all = [...boxes()];
    master.checked = all.length > 0 && all.every((box) => box.checked);
    master.indeterminate = !master.checked && all.some((box) => box.checked);
  };
  master.addEventListener("change", () => {
    boxes().forEach((box) => { box.checked = master.checked; });
  });
  boxes().forEach((box) => box.addEventListener("change", sync));
  sync();
});
