// Party rows: a person has a 姓名, an organisation a 名称. The name's label follows the kind
// chosen (the page is rendered with the label of the kind it shows).
document.querySelectorAll("fieldset.party-row").forEach((row) => {
  const kind = row.querySelector("select[name$='-kind']");
  const label = row.querySelector("[data-label-person]");
  if (!kind || !label) return;
  const follow = () => {
    label.textContent = kind.value === "organization"
      ? label.dataset.labelOrganization
      : label.dataset.labelPerson;
  };
  kind.addEventListener("change", follow);
  follow(); // a form the browser restored (back button) may show another kind
});
