"""A student's answers to assignment 6, put into the generated exercise notebook as a student would.

The answers follow one real student's work on the original lab: their own training loops
with ``torch.randperm``, and names reused from exercise to exercise as the lab invites.
Exercise 7 starts ``loss_curve`` and ``acc_curve`` again (holding test losses and
fractions there), and exercise 9 builds a new ``loss_fn`` and ``optimizer``. Every answer is
correct where it stands. A cell added after exercise 4 imports the lab's missing ``utils``
module. ``MISTAKES`` holds the four slips that student made, one at a time.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parent.parent
EXERCISE = REPO_ROOT / "exercises" / "assignment_06_classification.ipynb"
PLACEHOLDER = "# YOUR CODE HERE\nraise NotImplementedError"

ANSWERS = {
    "ex1": """\
X, y = make_circles(N_SAMPLES, noise=NOISE, random_state=RANDOM_SEED)
X = torch.from_numpy(X).type(torch.float)
y = torch.from_numpy(y).type(torch.float)
n_features = X.shape[1]
first_five_X, first_five_y = X[:5], y[:5]
last_five_X = X[-5:]""",
    "ex2": "X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=TEST_SIZE, random_state=RANDOM_SEED)",
    "ex3": """\
class CircleModelV0(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer_1 = nn.Linear(in_features=2, out_features=5)
        self.layer_2 = nn.Linear(in_features=5, out_features=1)

    def forward(self, x):
        return self.layer_2(self.layer_1(x))


model_0 = CircleModelV0().to(device)""",
    "ex4": """\
loss_fn = torch.nn.BCEWithLogitsLoss()
optimizer = torch.optim.SGD(model_0.parameters(), lr=0.1)""",
    "ex5": """\
for epoch in range(EPOCHS):
    model_0.train()
    epoch_loss = 0
    perm = torch.randperm(X_train.size(0))
    X_train_shuffled, y_train_shuffled = X_train[perm], y_train[perm]
    for i in range(0, len(X_train), BATCH_SIZE):
        X_batch = X_train_shuffled[i : i + BATCH_SIZE].to(device)
        y_batch = y_train_shuffled[i : i + BATCH_SIZE].to(device)
        optimizer.zero_grad()
        y_pred = model_0(X_batch)
        loss = loss_fn(y_pred.squeeze(), y_batch)
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item() * len(y_batch)
    if (epoch + 1) % 10 == 0:
        model_0.eval()
        with torch.no_grad():
            test_pred = (torch.sigmoid(model_0(X_test.to(device))) > 0.5).float().squeeze().cpu()
        loss_curve.append(epoch_loss / len(X_train))
        acc_curve.append(accuracy_fn(y_test, test_pred))
        print(f"Epoch [{epoch + 1}/{EPOCHS}], Train Loss: {loss_curve[-1]:.4f}, Test Acc: {acc_curve[-1]:.2f}%")""",
    "ex5 plot": """\
curves_fig = plt.figure(figsize=(12, 6))
plt.subplot(1, 2, 1)
plt.plot(range(10, EPOCHS + 1, 10), loss_curve, "r-", label="Train Loss")
plt.title("Train Loss")
plt.subplot(1, 2, 2)
plt.plot(range(10, EPOCHS + 1, 10), acc_curve, "b-", label="Test Accuracy")
plt.title("Test Accuracy")""",
    "ex6": """\
class CircleModelV1(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(2, 128)
        self.relu1 = nn.ReLU()
        self.linear2 = nn.Linear(128, 64)
        self.relu2 = nn.ReLU()
        self.linear3 = nn.Linear(64, 1)

    def forward(self, x):
        x = self.relu1(self.linear1(x))
        x = self.relu2(self.linear2(x))
        return self.linear3(x)


model_1 = CircleModelV1().to(device)""",
    "ex7": """\
optimizer_1 = torch.optim.SGD(model_1.parameters(), lr=0.1, momentum=0.9)
loss_fn = torch.nn.BCEWithLogitsLoss()
loss_curve = []
acc_curve = []
for epoch in range(EPOCHS):
    model_1.train()
    perm = torch.randperm(X_train.size(0))
    for i in range(0, len(X_train), 32):
        X_batch, y_batch = X_train[perm][i : i + 32].to(device), y_train[perm][i : i + 32].to(device)
        optimizer_1.zero_grad()
        loss = loss_fn(model_1(X_batch).squeeze(), y_batch)
        loss.backward()
        optimizer_1.step()
    if (epoch + 1) % 10 == 0:
        model_1.eval()
        with torch.no_grad():
            y_pred = model_1(X_test.to(device)).cpu()
            test_loss = loss_fn(y_pred.squeeze(), y_test)
            accuracy = ((torch.sigmoid(y_pred) > 0.5).float().squeeze() == y_test).sum().item() / len(y_test)
        loss_curve.append(test_loss.item())
        acc_curve.append(accuracy)
        print(f"Epoch [{epoch + 1}/{EPOCHS}], Test Loss: {test_loss:.4f}, Test Acc: {accuracy * 100:.2f}%")""",
    "ex8": """\
boundary_fig = plt.figure(figsize=(12, 6))
plt.subplot(1, 2, 1)
plt.title("Train")
plot_decision_boundary(model_1, X_train, y_train)
plt.subplot(1, 2, 2)
plt.title("Test")
plot_decision_boundary(model_1, X_test, y_test)""",
    "ex9": """\
class BlobModel(nn.Module):
    def __init__(self, input_features, output_features):
        super().__init__()
        self.linear = nn.Linear(input_features, output_features)

    def forward(self, x):
        return self.linear(x)


model_2 = BlobModel(input_features=NUM_FEATURES, output_features=NUM_CLASSES).to(device)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model_2.parameters(), lr=0.1)
blob_results = {"train_loss": [], "test_loss": []}
for epoch in range(EPOCHS):
    model_2.train()
    optimizer.zero_grad()
    train_loss = loss_fn(model_2(X_blob_train.to(device)), y_blob_train.to(device))
    train_loss.backward()
    optimizer.step()
    model_2.eval()
    with torch.no_grad():
        test_loss = loss_fn(model_2(X_blob_test.to(device)), y_blob_test.to(device))
    blob_results["train_loss"].append(train_loss.item())
    blob_results["test_loss"].append(test_loss.item())
blob_curves_fig = plot_loss_curves(blob_results)[0].figure
blob_boundary_fig = plt.figure(figsize=(10, 7))
plot_decision_boundary(model_2, X_blob_test, y_blob_test)""",
}
# The cells the exercises' placeholders sit in, in order (exercise 5 has two: the loop and the plot).
PLACEHOLDER_ORDER = ["ex1", "ex2", "ex3", "ex4", "ex5", "ex5 plot", "ex6", "ex7", "ex8", "ex9"]

OWN_BOUNDARY_FUNCTION = """\
def plot_decision_boundary(model, X, y):
    x_min, x_max = X[:, 0].min() - 0.5, X[:, 0].max() + 0.5
    y_min, y_max = X[:, 1].min() - 0.5, X[:, 1].max() + 0.5
    xx, yy = torch.meshgrid(torch.linspace(x_min, x_max, 100), torch.linspace(y_min, y_max, 100), indexing="ij")
    grid = torch.cat((xx.reshape(-1, 1), yy.reshape(-1, 1)), dim=1)
    model.eval()
    with torch.no_grad():
        preds = torch.softmax(model(grid), dim=1).argmax(dim=1)
    plt.figure(figsize=(10, 7))
    plt.contourf(xx, yy, preds.reshape(xx.shape), alpha=0.3, cmap=plt.cm.RdYlBu)
    plt.scatter(X[:, 0], X[:, 1], c=y, cmap=plt.cm.RdYlBu, edgecolors="black")
    plt.title("Decision Boundary")


"""

# Each slip: the exercise it belongs to, and (old, new) text in that exercise's answer.
MISTAKES = {
    "last_five_slice": ("ex1", "last_five_X = X[-5:]", "last_five_X = X[5:]"),
    "loss_over_last_index": (
        "ex5",
        "epoch_loss += loss.item() * len(y_batch)",
        "epoch_loss += loss.item()",
    ),
    "no_zero_grad": ("ex5", "        optimizer.zero_grad()\n", ""),
    "boundary_in_own_figure": ("ex9", "class BlobModel", OWN_BOUNDARY_FUNCTION + "class BlobModel"),
}


def student_notebook(mistake: str | None = None) -> nbformat.NotebookNode:
    """The exercise notebook with the student's answers, and one of ``MISTAKES`` when named."""
    answers = dict(ANSWERS)
    if mistake == "loss_over_last_index":
        answers["ex5"] = answers["ex5"].replace("epoch_loss / len(X_train)", "epoch_loss / (i + 1)")
    if mistake is not None:
        exercise, old, new = MISTAKES[mistake]
        assert old in answers[exercise], f"{old!r} is not in the answer to {exercise}"
        answers[exercise] = answers[exercise].replace(old, new, 1)
    notebook = nbformat.read(EXERCISE, as_version=4)
    placeholders = [cell for cell in notebook.cells if PLACEHOLDER in cell.source]
    assert len(placeholders) == len(PLACEHOLDER_ORDER), "the exercise notebook changed: update PLACEHOLDER_ORDER"
    for cell, key in zip(placeholders, PLACEHOLDER_ORDER, strict=True):
        cell.source = cell.source.replace(PLACEHOLDER, answers[key])
    check_ex4 = next(i for i, cell in enumerate(notebook.cells) if 'check("ex4")' in cell.source)
    notebook.cells.insert(check_ex4 + 1, nbformat.v4.new_code_cell("from utils import plot_decision_boundary"))
    return notebook
